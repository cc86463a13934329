"""Post `sglint diff`'s Markdown as one pull-request comment, updated on every run.

Used by action.yml (input `diff-comment`). The comment carries a hidden marker; a later run
edits the comment with the marker instead of adding another, so a pull request has one
sglint comment however often it is pushed to. Standard library only (it runs in the
action's virtual environment, before or without anything else).

    python pr_comment.py REPORT.md

Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_EVENT_PATH (the pull request's
number), SGLINT_GITHUB_TOKEN. A failure to comment (a fork's read-only token, the API down)
is a warning on stderr and exit 0: the comment is a convenience, the check is the verdict.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

MARKER = "<!-- calico-sglint diff -->"
MAX_BODY = 65_000  # GitHub refuses comments above 65,536 characters
MAX_PAGES = 50  # 5,000 comments: enough for any pull request, bounded for a broken API


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: pr_comment.py REPORT.md", file=sys.stderr)
        return 2
    try:
        number = pull_request_number(os.environ.get("GITHUB_EVENT_PATH", ""))
        if number is None:
            print("calico-sglint: not a pull request event: no comment written", file=sys.stderr)
            return 0
        with open(argv[0], encoding="utf-8") as handle:
            body = comment_body(handle.read())
        api = Api(os.environ.get("GITHUB_API_URL", "https://api.github.com"), os.environ["GITHUB_REPOSITORY"],
                  os.environ.get("SGLINT_GITHUB_TOKEN", ""))
        existing = api.find_comment(number)
        if existing is None:
            api.call("POST", f"/issues/{number}/comments", {"body": body})
            print(f"calico-sglint: commented on pull request #{number}")
        else:
            api.call("PATCH", f"/issues/comments/{existing}", {"body": body})
            print(f"calico-sglint: updated the comment on pull request #{number}")
    except (OSError, KeyError, ValueError, urllib.error.URLError) as err:
        print(f"::warning title=calico-sglint::could not write the pull-request comment: {err}", file=sys.stderr)
    return 0


def pull_request_number(event_path: str) -> int | None:
    """The pull request's number from the event payload, or None for other events."""
    if not event_path or not os.path.isfile(event_path):
        return None
    with open(event_path, encoding="utf-8") as handle:
        event = json.load(handle)
    number = (event.get("pull_request") or {}).get("number")
    return number if isinstance(number, int) else None


def comment_body(report: str) -> str:
    """The report with the marker, cut (with a note) to what GitHub accepts."""
    body = f"{MARKER}\n{report}"
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY] + "\n\n*(cut: the full report is in the job summary)*\n"
    return body


class Api:
    """The few GitHub REST calls the comment needs."""

    def __init__(self, url: str, repository: str, token: str) -> None:
        self.base = f"{url.rstrip('/')}/repos/{repository}"
        self.token = token

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text else None

    def find_comment(self, number: int) -> int | None:
        """The id of our comment on the pull request (the one with the marker), if any."""
        for page in range(1, MAX_PAGES + 1):
            comments = self.call("GET", f"/issues/{number}/comments?per_page=100&page={page}")
            if not isinstance(comments, list):
                raise ValueError("unexpected answer listing comments")
            for comment in comments:
                if _ours(comment):
                    return int(comment["id"])
            if len(comments) < 100:
                return None
        return None


def _ours(comment: object) -> bool:
    """A comment this action wrote: the marker first, by a bot (the workflow's token), not
    a person's comment that starts with the marker to have it overwritten."""
    if not isinstance(comment, dict):
        return False
    user = comment.get("user") or {}
    return str(comment.get("body", "")).startswith(MARKER) and isinstance(user, dict) and user.get("type") == "Bot"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
