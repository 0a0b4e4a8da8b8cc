"""cltk command line: a thin click layer over analytics and toolkit."""
