"""Report stage: findings and models as text, JSON, SARIF, GitHub, JUnit, Markdown, pictures."""
