"""Medical scanner: photo → preprocessing → OCR → structured medications and lab results → overlay."""
