"""Sample reports: the five seeds and variants, rendered as offices publish them."""
