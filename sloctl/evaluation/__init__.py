"""One evaluation cycle: plan the queries, fetch them, assemble the results (pure), persist."""
