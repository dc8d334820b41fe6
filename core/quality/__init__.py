"""Label quality: suspect labels that the model, trained out-of-fold, confidently contradicts
(confident learning via cleanlab; ``suspects``) and the queue of decisions on them
(``suspect_queue``). It sits above the learning room (it fits the project's model per fold);
the agreement and resolution of several annotators' labels are in ``activelab.core.team``."""
