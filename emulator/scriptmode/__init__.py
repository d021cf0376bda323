"""Script mode without Docker: the SageMaker training/inference/processing container contracts
reproduced around a child process running the user's own code on the host."""
