"""Settings and spec models, the bottom layer: validated at the edge, importing no component and creating no resource."""
