"""`python -m tinytorch.models.gpt ...`: see cli.py."""
from .cli import main

main()
