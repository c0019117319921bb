#!/usr/bin/env python3
"""Runs Optuna's samplers for knobs-bench, which evaluates the objectives.

The problems are defined once, in Go (pkg/benchmark); this driver only asks
Optuna for points and tells it the losses knobs-bench computed. It speaks JSON
lines on stdin and stdout, one run after another:

  knobs-bench -> driver  {"sampler": "tpe", "seed": 1, "evaluations": 60,
                          "batch": 4, "params": [
                            {"name": "x1", "type": "float", "low": -5, "high": 10},
                            {"name": "lr", "type": "float", "low": 1e-5, "high": 1, "log": true},
                            {"name": "layers", "type": "int", "low": 1, "high": 8},
                            {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}]}
  driver -> knobs-bench  {"ask": [{"x1": "0.25", ...}, ...]}   up to batch points
  knobs-bench -> driver  {"tell": [1.5, ...]}                  their losses (null: failed)
  ...
  driver -> knobs-bench  {"done": true}                       the run has its evaluations

A run of a problem with several objectives or with constraints says how many
("objectives": 2, "constraints": 2; every objective is minimised, and a
constraint is kept when its value is at most 0), and each trial is then told
its list of objective values, its constraints beside:

  knobs-bench -> driver  {"tell": [[0.5, 2.1], ...], "constraints": [[-3.0, 0.2], ...]}

A run the driver cannot do is answered {"error": "..."} and the driver waits
for the next run. It ends when its stdin closes. A batch of points is asked
before any of them is told, as parallel trials run; the TPE samplers then
count the running trials as bad (constant_liar), as Knobs' TPE does.

Needs only the standard library and Optuna (Debian's python3-optuna 3.1.0,
which brings cmaes and numpy; the qmc sampler needs python3-scipy).
"""

import json
import logging
import sys
import warnings

SAMPLERS = ("random", "tpe", "tpe-multivariate", "cmaes", "qmc", "motpe", "nsga2")

# Where a trial keeps the constraint values knobs-bench told, for the
# samplers' constraints_func to read back.
CONSTRAINTS_ATTR = "knobs_constraints"


def stored_constraints(trial):
    return trial.user_attrs[CONSTRAINTS_ATTR]


def sampler_for(optuna, name, seed, constrained=False):
    """The sampler called name; constrained gives it the trials' constraints
    (random search ignores them, and MOTPESampler in Optuna 3.1 takes none:
    TPESampler is MOTPE for several objectives, and does)."""
    s = optuna.samplers
    cf = stored_constraints if constrained else None
    if name == "random":
        return s.RandomSampler(seed=seed)
    if name == "tpe":
        return s.TPESampler(seed=seed, constant_liar=True, constraints_func=cf)
    if name == "tpe-multivariate":
        return s.TPESampler(seed=seed, multivariate=True, constant_liar=True, constraints_func=cf)
    if name == "cmaes":
        return s.CmaEsSampler(seed=seed)
    if name == "qmc":
        return s.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
    if name == "motpe":
        if constrained:
            raise ValueError("motpe takes no constraints: use tpe, which is MOTPE with them")
        return s.MOTPESampler(seed=seed)
    if name == "nsga2":
        return s.NSGAIISampler(seed=seed, constraints_func=cf)
    raise ValueError("unknown sampler %r: use one of %s" % (name, ", ".join(SAMPLERS)))


def distributions_for(optuna, params):
    d = optuna.distributions
    out = {}
    for p in params:
        name, kind = p["name"], p["type"]
        if kind == "float":
            out[name] = d.FloatDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step"))
        elif kind == "int":
            out[name] = d.IntDistribution(int(p["low"]), int(p["high"]), log=p.get("log", False))
        elif kind == "categorical":
            out[name] = d.CategoricalDistribution(p["choices"])
        else:
            raise ValueError("parameter %r: unknown type %r: use float, int or categorical" % (name, kind))
    return out


def value_string(v):
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def receive():
    line = sys.stdin.readline()
    if not line:
        return None
    return json.loads(line)


def run(optuna, spec):
    seed = int(spec["seed"])
    evaluations, batch = int(spec["evaluations"]), int(spec.get("batch", 1))
    if evaluations < 1 or batch < 1:
        raise ValueError("evaluations and batch must be at least 1")
    objectives, constraints = int(spec.get("objectives", 1)), int(spec.get("constraints", 0))
    if objectives < 1 or constraints < 0:
        raise ValueError("objectives must be at least 1, and constraints not below 0")
    space = distributions_for(optuna, spec["params"])
    sampler = sampler_for(optuna, spec["sampler"], seed, constraints > 0)
    study = optuna.create_study(directions=["minimize"] * objectives, sampler=sampler)
    done = 0
    while done < evaluations:
        trials = [study.ask(space) for _ in range(min(batch, evaluations - done))]
        send({"ask": [{k: value_string(v) for k, v in t.params.items()} for t in trials]})
        reply = receive()
        if reply is None:
            return False
        losses = reply.get("tell")
        if not isinstance(losses, list) or len(losses) != len(trials):
            raise ValueError("want {\"tell\": [...]} with %d losses, got %r" % (len(trials), reply))
        bounds = reply.get("constraints") if constraints else [None] * len(trials)
        if not isinstance(bounds, list) or len(bounds) != len(trials):
            raise ValueError("want \"constraints\" beside \"tell\", %d lists of %d, got %r" % (len(trials), constraints, reply))
        for t, loss, bound in zip(trials, losses, bounds):
            if loss is None:
                study.tell(t, state=optuna.trial.TrialState.FAIL)
                continue
            values = [float(v) for v in loss] if isinstance(loss, list) else [float(loss)]
            if len(values) != objectives:
                raise ValueError("want %d objective values a trial, got %r" % (objectives, loss))
            if constraints:
                if not isinstance(bound, list) or len(bound) != constraints:
                    raise ValueError("want %d constraint values a trial, got %r" % (constraints, bound))
                t.set_user_attr(CONSTRAINTS_ATTR, [float(c) for c in bound])
            study.tell(t, values)
        done += len(trials)
    send({"done": True})
    return True


def main():
    warnings.simplefilter("ignore")
    try:
        import optuna
    except ImportError as e:
        send({"error": "optuna is not installed (%s): apt-get install python3-optuna python3-scipy" % e})
        return 1
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("optuna").setLevel(logging.ERROR)
    send({"ready": True, "optuna": optuna.__version__})
    while True:
        try:
            spec = receive()
        except ValueError as e:
            send({"error": "a run is one JSON object a line: %s" % e})
            continue
        if spec is None:
            return 0
        try:
            if not run(optuna, spec):
                return 0
        except Exception as e:  # a bad run is reported, and the next one runs
            send({"error": "%s: %s" % (type(e).__name__, e)})


if __name__ == "__main__":
    sys.exit(main())
