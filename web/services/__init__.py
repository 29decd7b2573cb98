"""What the dashboard and the API do, apart from HTTP: kept out of the routes."""
