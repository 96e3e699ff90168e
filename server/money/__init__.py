"""Money: what a job costs and the limits it must fit before it is submitted."""
