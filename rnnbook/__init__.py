"""rnnbook: the book's own machinery, apart from the library the chapters teach.

``rnnlib`` is what a student installs and reads; this package is what builds, assigns and grades
the book. It imports ``rnnlib``; ``rnnlib`` never imports it.

Build (Sphinx extensions listed under ``sphinx: local_extensions`` in ``_config.yml``):

* :mod:`rnnbook.sphinx_ext`: the build's plotly renderer switch, one shared ``plotly.min.js``,
  the ``{chapter}`` role, kernel ports and the offline assets;
* :mod:`rnnbook.offline_assets`: MathJax, require.js and the widgets' html-manager from npm;
* :mod:`rnnbook.kernel_ports`: kernels take ports outside the ephemeral range;
* :mod:`rnnbook.exercise_index`: the ``{exercise-index}`` directive.

Instructors (commands):

* ``python -m rnnbook.exercises list``: every exercise (label, chapter, kind, points);
* ``python -m rnnbook.assign``: the student edition (``make student``);
* ``python -m rnnbook.grade``: the autograder.

:mod:`rnnbook.notebooks` reads the notebooks' exercise conventions for all of them.
"""
