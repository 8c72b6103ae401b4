"""Reserved for a later issue (see the README's layout); empty today."""
