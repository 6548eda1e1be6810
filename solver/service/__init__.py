"""The running solver as a service: FastAPI app, job store, scheduler, prover workers, submission."""
