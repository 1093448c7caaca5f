//! Protection: the container format, keys, templates and the in-place swap.
