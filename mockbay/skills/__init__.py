"""The Skills API (/v1/skills): skills, their versions and their uploads."""
