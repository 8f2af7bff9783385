"""Local stand-in for AWS: moto's server, what it lacks for Cognito, and the resources the workers need."""
