"""What the routes call: queries and actions over the state store and the level stores."""
