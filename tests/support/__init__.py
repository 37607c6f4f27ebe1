"""What the tests share: assertions and tiny randomly initialised models."""
