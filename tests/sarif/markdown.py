"""Renders a Markdown file as GitHub renders a pull-request comment and prints what a reader
sees, as JSON.

The renderer is cmarkgfm (bindings to cmark-gfm, GitHub's own Markdown engine) with GitHub's
extensions (tables, autolinks, strikethrough, task lists, the tag filter). The HTML is then
checked for balanced block elements (every <details>, <summary>, <table>, <pre> closed).

Usage: markdown.py FILE.md. Prints {"balanced": bool, "unclosed": [...], "headings": [...],
"details": n, "summaries": [...], "code_blocks": [{"lang", "text"}], "tables": n,
"text": visible text}. Exit 0 when balanced; 1 otherwise.
"""
import json
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

with open(sys.argv[1], encoding="utf-8") as f:
    source = f.read()
# GitHub keeps raw HTML such as <details> in comments (its sanitiser allows it).
html = cmarkgfm.github_flavored_markdown_to_html(source, options=Options.CMARK_OPT_UNSAFE)

BLOCKS = {"details", "summary", "table", "pre", "code", "ul", "ol", "li", "blockquote", "h2", "h3", "h4"}


class Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.unclosed = []
        self.headings = []
        self.summaries = []
        self.code_blocks = []
        self.details = 0
        self.tables = 0
        self.text = []
        self._capture = None
        self._buffer = []
        self._lang = None

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self.stack.append(tag)
        if tag == "details":
            self.details += 1
        if tag == "table":
            self.tables += 1
        if tag in ("h2", "h3", "h4", "summary"):
            self._capture, self._buffer = tag, []
        if tag == "pre":
            self._lang = dict(attrs).get("lang", "")
            self._capture, self._buffer = "pre", []

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            if not self.stack or self.stack[-1] != tag:
                self.unclosed.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            else:
                self.stack.pop()
        if tag == self._capture:
            content = "".join(self._buffer)
            if tag == "pre":
                self.code_blocks.append({"lang": self._lang, "text": content})
            elif tag == "summary":
                self.summaries.append(content.strip())
            else:
                self.headings.append(content.strip())
            self._capture = None

    def handle_data(self, data):
        self.text.append(data)
        if self._capture:
            self._buffer.append(data)


r = Reader()
r.feed(html)
r.close()
unclosed = r.unclosed + [f"<{t}> never closed" for t in r.stack]
print(json.dumps({
    "balanced": not unclosed,
    "unclosed": unclosed,
    "headings": r.headings,
    "details": r.details,
    "summaries": r.summaries,
    "code_blocks": r.code_blocks,
    "tables": r.tables,
    "text": "".join(r.text),
    "characters": len(source),
}, indent=1))
sys.exit(0 if not unclosed else 1)
