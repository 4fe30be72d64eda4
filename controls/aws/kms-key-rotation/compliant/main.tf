resource "aws_kms_key" "data" {
  description             = "Acme data"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_key" "signing" {
  description              = "Asymmetric signing keys cannot rotate automatically"
  customer_master_key_spec = "RSA_2048"
  key_usage                = "SIGN_VERIFY"
}
