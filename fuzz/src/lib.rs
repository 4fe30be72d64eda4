//! What the parser fuzz targets share: route one file to its parser, then render every problem
//! it reports (or load what it parsed). No input may panic either step.

/// Parses `data` as the file `name` (when it is UTF-8), as `vouch check` would.
pub fn parse_and_render(name: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = vouch::source::SourceFile::new(name, text);
    let ctx = vouch::formats::LoadContext { as_of_days: 20_000, ..Default::default() };
    match vouch::formats::parse_file(&file, &ctx) {
        Err(problems) => {
            let _ = vouch::report::human::render_problems(
                &problems,
                vouch::report::human::Style { color: false },
            );
        }
        Ok(_) => {
            let _ = vouch::formats::load(&[file], &ctx);
        }
    }
}
