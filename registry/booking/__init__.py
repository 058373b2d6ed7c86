"""The booker's pages: find a free qualified interpreter, book, follow and manage bookings."""
