"""Celery tasks of the platforms app: thin wrappers over services."""
from celery import shared_task

from apps.platforms.imports.runner import import_job_run, import_jobs_stale


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True, name="platforms.run_import_job")
def run_import_job(job_id: int) -> None:
    """Runs an import job; the job row holds the outcome, so a repeated delivery is harmless."""
    import_job_run(job_id=job_id)


@shared_task(ignore_result=True, name="platforms.requeue_stale_import_jobs")
def requeue_stale_import_jobs() -> list[int]:
    """Queues again the import jobs whose message or worker was lost (see import_jobs_stale)."""
    job_ids = import_jobs_stale()
    for job_id in job_ids:
        run_import_job.delay(job_id)
    return job_ids
