//! Settings layers, .env discovery, paths and provider profiles
