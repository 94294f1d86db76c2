"""Go's standard library behaviours that tsuru's wire shows, written once.

tsuru is a Go program: its error texts, number parsing, time printing, JSON escaping
and webhook templates are those of Go's standard library. Every context reproduces
them through this package instead of re-implementing them:

* ``strconv``: ``parse_bool``, ``atoi``, ``parse_int``, ``quote``, ``format_float``;
* ``times``: RFC 3339 (with and without nanoseconds), ``Time.String()``,
  ``Duration.String()``, and the time layouts tsuru's decoders accept;
* ``fmt``: ``sprintf`` (the usual verbs, flags, width, precision) and ``%v`` printing;
* ``gojson``: ``json.Marshal``'s compact output with its HTML-safe escapes;
* ``template``: the subset of ``text/template`` webhook bodies use.
"""
