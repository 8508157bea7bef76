"""conn2rnn: recurrent networks built from the brain."""

__version__ = "0.1.0"
