"""The viewer's state and plans, without Qt: the view, the document, tiles and layers, the
render plan, the methods' state and the panel layout. Everything above reads them; they import
nothing above them."""
