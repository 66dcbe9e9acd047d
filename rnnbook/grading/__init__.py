"""The autograder's parts (``python -m rnnbook.grade`` is the command).

* :mod:`.intake`: finding, reading and validating submissions (trusted side);
* :mod:`.book`: which submitted cells are the book's own (master notebooks, trusted side);
* :mod:`.runner`: the program that runs inside the sandbox (submission cells, answer calls);
* :mod:`.supervisor`: one submission: plan, sandbox runs and restarts, judgement;
* :mod:`.copies`: static analysis for answers that use the library's own solution;
* :mod:`.report`: the per-submission log, CSV/JSON/Canvas reports, text hygiene.

The sandbox itself is :mod:`rnnbook.sandbox`.
"""
