"""The ``vnsearch index …`` and ``vnsearch crawl`` side of the command line.

The ``vnsearch`` entry point itself is :mod:`search_api.cli`: it adds the
``index`` group assembled here (:mod:`indexer.cli.group`), ``crawl``
(:mod:`indexer.crawl.cli`), ``analytics``, ``search`` and ``serve``. Nothing in
this package imports :mod:`search_api`.

- :mod:`indexer.cli.options`: the shared options (``--index-dir``, ``--wait``,
  ``--report``, ``--quiet``, the read limits), :func:`~indexer.cli.options.fail`
  and the decorator that turns a ``StoreError`` into a message, a hint and its
  exit code (:class:`indexer.errors.ExitCode`, the one table of exit codes).
- :mod:`indexer.cli.output`: the progress bar of writing commands and the list
  of rejected inputs.
- :mod:`indexer.cli.index`: ``build``, ``update``, ``delete``, ``rollback``.
- :mod:`indexer.cli.inspect`: ``stats``, ``check``.
- :mod:`indexer.cli.replica`: ``keygen``, ``publish``, ``pull``.
"""
