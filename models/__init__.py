"""tinytorch.models: the course's models written on the public tinytorch API, like a user's script."""
