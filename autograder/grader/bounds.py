"""Every bound the grader puts on what one submission can make it keep, write or print.

One place, so a reviewer can see at a glance how much a hostile submission can
cost the grader (memory, disk, terminal) and so the tests can refer to the same
numbers. Resource limits of the sandboxed processes themselves (memory, CPU,
time) are options: see ``sandbox.Limits``.
"""

from __future__ import annotations

# ------------------------------------------------------------ the submission folder, as read by the grader
#: Largest notebook file read (bytes); a bigger one makes the submission invalid.
MAX_NOTEBOOK_BYTES = 20 << 20
#: Largest total of cell sources (characters): the graded notebook and its feedback copy them.
MAX_SOURCE_CHARS = 2_000_000
#: Folder levels below the submission folder that are read (digest, copy into the sandbox).
MAX_DEPTH = 16
#: Entries (files and folders) read per submission folder.
MAX_ENTRIES = 2_000
#: Bytes hashed per submission for ``--resume``.
MAX_DIGEST_BYTES = 200 << 20
#: Bytes of files copied into the sandbox (default of ``--copy-mb``).
COPY_MB = 50

# ------------------------------------------------------------ the socket from a sandbox
#: Largest single message (bytes) and total bytes one sandbox may send over its whole run.
MAX_MESSAGE_BYTES = 32 << 20
MAX_WIRE_BYTES = 256 << 20
#: Datagrams one sandbox may send in total (a flood of tiny datagrams costs the grader per datagram).
MAX_DATAGRAMS = 200_000
#: Senders (process ids) with an unfinished message at the same time.
MAX_SENDERS = 16
#: Array elements and dimensions accepted in one decoded value.
MAX_ARRAY_ITEMS = 50_000_000
MAX_ARRAY_DIMS = 8

# ------------------------------------------------------------ what a graded function may return
#: Encoded bytes of one call's result; more costs that call only (a fault), never the sandbox.
MAX_RETURN_BYTES = 4 << 20
#: Encoded bytes of all calls of one hidden test.
MAX_CHECK_BYTES = 16 << 20

# ------------------------------------------------------------ outputs kept in the graded notebook
#: Characters of stream text kept per cell, and bytes of base64 images per cell (in the sandbox).
CELL_TEXT_CHARS = 20_000
CELL_IMAGE_BYTES = 2_000_000
#: Encoded bytes of outputs kept per cell and per notebook (in the grader); beyond, a note says so.
CELL_OUTPUT_BYTES = 3 << 20
NOTEBOOK_OUTPUT_BYTES = 12 << 20
#: Outputs kept per cell.
CELL_OUTPUTS = 200

# ------------------------------------------------------------ text the grader writes about a student
#: Characters of one reason or note (fault text, exception text, file names) kept.
REASON_CHARS = 300
#: Characters of a reason shown on a progress line and in the summary table.
TERMINAL_REASON_CHARS = 160
