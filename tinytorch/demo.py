"""`make demo`: the project's showcase, run end to end (for now micrograd's moons demo)."""
from tinytorch import micrograd_demo


def main():
    micrograd_demo.main(["--out", "out/micrograd"])


if __name__ == "__main__":
    main()
