"""Working as a team on one project: each annotator's labels, their agreement (Cohen's kappa,
Krippendorff's alpha), the review queue of disagreements and the one resolved label per sample
that training and the export use. Label-error triage (cleanlab suspects) is in
``activelab.core.quality``."""
