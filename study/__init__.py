"""The DLPE-vs-static-AMM study (study.backtest): the solver's pipeline against a static AMM on a
simulated day, with metrics, plots and tables. Above solver/: it imports the pipeline, never the reverse."""
