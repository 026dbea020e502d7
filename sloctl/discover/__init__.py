"""What a Prometheus holds, read before writing SLOs (``sloctl discover``), and the live checks
of specs against it (``sloctl validate --live``, ``sloctl rules generate``).

Pure modules: ``conventions`` (the metric conventions looked for), ``identity`` (where a series
names its service), ``bounds`` (is a threshold a bucket bound: the one check shared by discover,
validate --live and rules generate), ``fixes`` (how to add a bound), ``model`` and ``starter``
(the starter spec). With I/O: ``fetch`` (bounded metadata reads), ``scan`` (discover) and
``live`` (the spec checks).
"""
