"""Measuring the course (``python -m benchmarks.run``); one job per module.

- ``benchmarks.run`` -- the command line: the sections, each measurement in a fresh process.
- ``benchmarks.results`` -- ``benchmarks/results.json``: one record per measurement, with
  its date, machine, commit, command and load; the background-load gate; the merge.
- ``benchmarks.page`` -- the website's measurements page, rendered from the results file only.
- ``benchmarks.peers`` -- the TensorFlow tutorial's MLP and the Keras MNIST convnet.
- ``benchmarks.container`` -- each lesson in the course image under 2 GB and 2 CPUs.
- ``benchmarks.load_time``, ``benchmarks.grading_speed``, ``benchmarks.hub_sizing`` --
  loading the data, autograding, and the class hub with several learners.
"""
