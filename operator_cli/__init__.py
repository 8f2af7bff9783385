"""The operator CLI, `cognito-lifecycle`: drive and inspect a deployment, local or in an AWS account."""
