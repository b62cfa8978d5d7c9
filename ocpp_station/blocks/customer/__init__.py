"""Customer information (use cases N09, N10): CustomerInformation, report and clear."""
