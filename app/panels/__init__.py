"""Dockable side panels of the labeling window. Each panel takes plain data through
``set_*`` slots and emits snake_case signals; none of them touches the store or trains."""
