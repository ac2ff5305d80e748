"""EduOps classroom agent: reports terminal and network health to the hub; imports nothing from eduops."""
