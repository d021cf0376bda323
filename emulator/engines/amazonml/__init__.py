"""Pure-ML engine for the Amazon Machine Learning (2014-12-12) emulator.

Knows nothing about HTTP or S3.  Entry points:

* ``schema.parse_schema`` / ``schema.check_target_for_model_type``
* ``rearrangement.parse_rearrangement``
* ``datasets.load_dataset`` (= ``datasets.parse_file`` per file + ``datasets.select_dataset``) /
  ``datasets.parse_record``
* ``statistics.compute_statistics``
* ``recipes.parse_recipe`` / ``recipes.default_recipe`` / ``recipes.FeaturePipeline`` (whole
  columns through ``columns``; one Predict record in plain Python)
* ``sgd.validate_parameters`` / ``sgd.train_model`` -> ``model.TrainedModel``
* ``metrics.evaluate``
* ``batch.batch_prediction_csv`` / ``batch.manifest_json``

Errors: ``errors.EngineInputError`` (-> InvalidInputException) and
``errors.DataProcessingError`` (-> resource FAILED with the message).
"""
