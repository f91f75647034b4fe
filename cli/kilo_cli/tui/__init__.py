"""Full-screen terminal front ends (textual). Imported only by the commands that open them."""
