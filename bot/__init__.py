"""The service: CLI, settings, scheduler jobs and onboarding orchestration."""
