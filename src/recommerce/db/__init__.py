"""Database plumbing shared by the store node and central: engines and portable column types."""
