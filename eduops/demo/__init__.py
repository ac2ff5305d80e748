"""The demo: a synthetic county, its made-up past, simulated agents (the only hub code that imports agents/)."""
