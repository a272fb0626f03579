"""How a study declares its parameters (:mod:`~experiments.scenarios.params`) and validates them once
(:class:`~experiments.scenarios.base.Scenario`); each study's own declaration is its package's
``scenario`` module (``experiments.studies.<name>.scenario``)."""
