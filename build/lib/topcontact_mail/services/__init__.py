"""One module per use case, each a plain function or small class over the ports."""
