"""The benchmarks (`lrsdetr bench NAME`, or `python benchmarks/NAME.py` in a clone): accuracy side by side, the
compression chain, CPU latency, export formats, GPU figures, the pruning speed-up and the VisDrone evaluator's
time. The top layer but commands.py: they train, prune, distil, export and score through everything below."""
