"""The badge kind's gateway side (office gateway): `KIND` for the gateway's registry."""
