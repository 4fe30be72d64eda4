resource "aws_elasticsearch_domain" "legacy" {
  domain_name           = "acme-legacy"
  elasticsearch_version = "7.10"
}
