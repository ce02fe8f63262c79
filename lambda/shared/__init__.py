"""Code bundled into every Lambda function zip (package ``shared``)."""
