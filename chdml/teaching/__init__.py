"""Reference code that exists only for teaching: one module per workshop topic.

Each module is the reference a workshop's checks compare against and the helpers its
notebook uses (e.g. :mod:`chdml.teaching.segmentation` for workshop 4). Library code that
is useful outside the workshops lives in the rest of :mod:`chdml`.
"""
