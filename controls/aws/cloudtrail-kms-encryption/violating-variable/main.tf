variable "trail_key" {
  type        = string
  description = "Set per environment; no default, so a static reader cannot know it."
}

resource "aws_kms_key" "trail" {
  description         = "CloudTrail logs"
  enable_key_rotation = true
}

resource "aws_cloudtrail" "main" {
  name                       = "acme-organization"
  s3_bucket_name             = "acme-cloudtrail"
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = var.trail_key
}
